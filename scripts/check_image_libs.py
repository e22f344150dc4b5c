"""Checks that every shared library the soma binary links (per ldd) comes from a Debian package
the Dockerfile's runtime stage installs, or is one the stage copies into /usr/local/lib itself
(librdkafka, see scripts/install-librdkafka.sh). Libraries of the Swift toolchain itself are skipped for a
binary built without --static-swift-stdlib (a debug build); the image links them statically.

    python3 scripts/check_image_libs.py [binary]
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def runtime_packages():
    text = (ROOT / "Dockerfile").read_text()
    runtime = text.split("FROM debian:bookworm-slim", 1)[1]
    install = re.search(r"apt-get install -y --no-install-recommends ([^\\&]+)", runtime).group(1)
    return set(install.split())


def shipped_libraries():
    """Libraries the runtime stage copies in by name (`COPY --from=build ... /usr/local/lib/NAME`)."""
    runtime = (ROOT / "Dockerfile").read_text().split("FROM debian:bookworm-slim", 1)[1]
    return set(re.findall(r"^COPY --from=build \S+ /usr/local/lib/(\S+)$", runtime, re.MULTILINE))


def with_dependencies(packages):
    """The packages apt installs for these: the named ones and everything they depend on."""
    output = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
         "--no-replaces", "--no-enhances", *sorted(packages)], check=True, capture_output=True, text=True).stdout
    closure = set(packages)
    for line in output.splitlines():
        name = line.strip().split(":", 1)[-1].strip() if line.startswith(" ") else line.strip()
        if name and not name.startswith("<"):
            closure.add(name)
    return closure


def linked_libraries(binary):
    output = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    for line in output.splitlines():
        match = re.search(r"=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if match:
            yield match.group(1)


def package_of(path):
    real = str(pathlib.Path(path).resolve())
    for candidate in (path, real, real.replace("/usr/lib/", "/lib/"), real.replace("/lib/", "/usr/lib/", 1)):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    return None


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build/debug/soma")
    named = runtime_packages()
    packages = with_dependencies(named)
    shipped = shipped_libraries()
    missing = []
    checked = 0
    for library in linked_libraries(binary):
        if library.startswith("/opt/swift") or "/swift/" in library:
            continue  # the Swift runtime: static in the image
        if pathlib.Path(library).name in shipped:
            checked += 1
            continue
        package = package_of(library)
        checked += 1
        if package is None or package.split(":")[0] not in packages:
            missing.append((library, package))
    for library, package in missing:
        print(f"not installed by the runtime stage: {library} (package {package})")
    print(f"{checked} shared libraries checked against the runtime stage's packages {sorted(named)} and their dependencies, "
          f"and the libraries it ships itself {sorted(shipped)}: {len(missing)} missing")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
