#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, pkg-config).
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# The TAP driver ships with automake but is not installed by --add-missing.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/
