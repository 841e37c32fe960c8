# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers for scripts/*.sh.  Sourced, not run.

info() { printf '[span] %s\n' "$*" >&2; }
warn() { printf '[span] warning: %s\n' "$*" >&2; }
die() { printf '[span] error: %s\n' "$*" >&2; exit 1; }
