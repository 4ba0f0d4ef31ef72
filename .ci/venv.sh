# Sourced by .ci/lint-spec and crates/dingtalk-conference-mock/conformance/run.sh.
#
# ensure_venv DIR: makes DIR a Python virtualenv with a working pip, ready for `pip install`.
#   - A venv that exists but has no working pip (left half-made by a `python3 -m venv` that
#     failed, as it does on Debian without python3-venv) is deleted and made again, never reused.
#   - When `python3 -m venv` cannot make one, python3-venv is installed with apt-get (CI runs as
#     root on Debian) and it is tried once more.

# True when DIR's interpreter runs and has pip.
venv_has_pip() {
    [[ -x "$1/bin/python" ]] && "$1/bin/python" -m pip --version >/dev/null 2>&1
}

# One attempt to make DIR from scratch; true when it ends with a working pip.
make_venv() {
    rm -rf "$1"
    python3 -m venv "$1" >&2 && venv_has_pip "$1"
}

ensure_venv() {
    local dir="$1"
    venv_has_pip "$dir" && return 0
    if [[ -e $dir ]]; then
        echo "venv: $dir has no working pip: making it again" >&2
    fi
    make_venv "$dir" && return 0
    if ! command -v apt-get >/dev/null; then
        echo "venv: \`python3 -m venv\` cannot make $dir and there is no apt-get:" \
            "install your system's venv package for python3" >&2
        return 1
    fi
    echo "venv: \`python3 -m venv\` failed: installing python3-venv with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    make_venv "$dir" || {
        echo "venv: still cannot make $dir with a working pip" >&2
        return 1
    }
}
