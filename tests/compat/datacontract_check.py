"""Run datacontract-cli on the project's contracts, from its own venv (.venv-compat/datacontract-*).

Usage: datacontract_check.py [--lint CONTRACT...] [--test NAME DIR CONTRACT SERVER]...
Lint and every test run in this one process (datacontract-cli starts slowly). A server's relative
path resolves against the working directory, so each test runs in its DIR (a DVCC_HOME). Prints
one JSON object: {"lint": {contract: [checks]}, "test": {NAME: {"result": ..., "checks": [...]}}}
where each check is [result, name, reason]. Imports only datacontract-cli and the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from datacontract.data_contract import DataContract


def _checks(run) -> list[list[str | None]]:
    return [[str(c.result.value if c.result else None), c.name, c.reason] for c in run.checks or []]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lint", nargs="*", default=[])
    parser.add_argument("--test", nargs=4, action="append", default=[])
    args = parser.parse_args(argv)
    report: dict[str, dict] = {"lint": {}, "test": {}}
    for contract in args.lint:
        report["lint"][contract] = _checks(DataContract(data_contract_file=contract).lint())
    for name, folder, contract, server in args.test:
        os.chdir(folder)
        run = DataContract(data_contract_file=contract, server=server).test()
        report["test"][name] = {"result": str(run.result.value), "checks": _checks(run)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
