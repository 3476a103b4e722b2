#!/usr/bin/env bash
# Installs what TorusCollectives needs on Debian 12, only what is missing: Open MPI (headers,
# mpirun), hwloc, pkg-config, C and Fortran compilers, and mpi4py with numpy for the drop-in's
# examples. As root it runs apt-get itself; otherwise it prints the exact command to run and stops.
set -euo pipefail

packages=(libopenmpi-dev openmpi-bin libhwloc-dev pkg-config gcc gfortran python3 python3-mpi4py python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "setup: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: missing packages: ${missing[*]}" >&2
        echo "setup: run this as root, then try again:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: no 'swift' on PATH. Install Swift 6.0 or newer from https://www.swift.org/install/linux/ and put its usr/bin on PATH." >&2
    exit 1
fi
