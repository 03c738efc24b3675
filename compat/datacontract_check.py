"""Run datacontract-cli on the project's contracts, from its own venv (.venv-compat/datacontract-*).

Usage: datacontract_check.py --lint CONTRACT... --test CONTRACT:SERVER...
Lint and test run in this one process (datacontract-cli starts slowly); relative server paths
resolve against the working directory, so the caller runs it in DVCC_HOME. Prints one JSON
object: {"lint": {contract: [checks]}, "test": {"contract:server": {"result": ..., "checks": [...]}}}
where each check is [result, name, reason]. Imports only datacontract-cli and the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys

from datacontract.data_contract import DataContract


def _checks(run) -> list[list[str | None]]:
    return [[str(c.result.value if c.result else None), c.name, c.reason] for c in run.checks or []]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lint", nargs="*", default=[])
    parser.add_argument("--test", nargs="*", default=[])
    args = parser.parse_args(argv)
    report: dict[str, dict] = {"lint": {}, "test": {}}
    for contract in args.lint:
        report["lint"][contract] = _checks(DataContract(data_contract_file=contract).lint())
    for spec in args.test:
        contract, server = spec.rsplit(":", 1)
        run = DataContract(data_contract_file=contract, server=server).test()
        report["test"][spec] = {"result": str(run.result.value), "checks": _checks(run)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
