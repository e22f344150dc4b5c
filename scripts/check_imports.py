"""Fails when a target imports a module Package.swift does not declare for it (a product or a
target), so no target builds only because another one happened to pull the module in.

    python3 scripts/check_imports.py
"""
import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The toolchain's own modules, which no package provides.
TOOLCHAIN = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization",
             "Testing", "XCTest", "PackagePlugin", "_Concurrency", "RegexBuilder", "Observation"}
IMPORT = re.compile(r"\s*(?:@\w+\s+)*import\s+(?:(?:struct|enum|class|func|protocol|typealias)\s+)?(\w+)")


def main():
    env = {**os.environ, "PATH": "/opt/swift/usr/bin:" + os.environ.get("PATH", "")}
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, env=env, check=True,
                                        capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] in ("system", "plugin"):
            continue
        default = ("Tests/" if target["type"] == "test" else "Sources/") + target["name"]
        declared = {target["name"]} | {name for dependency in target["dependencies"] for kind in dependency.values() for name in kind[:1]}
        imported = set()
        for path in (ROOT / (target.get("path") or default)).rglob("*.swift"):
            imported |= {match.group(1) for match in map(IMPORT.match, path.read_text().splitlines()) if match}
        missing = sorted(imported - declared - TOOLCHAIN)
        if missing:
            problems.append(f"{target['name']} imports {', '.join(missing)} without declaring it in Package.swift")
    print("\n".join(problems) or f"every import of {len(package['targets'])} targets is declared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
