"""The warehouse as a store: rebuild (`dvcc herstel`) and backup."""
