#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# Sourced by the headless-Chromium tests: find_chromium NAME ROOT sets
# $browser, installing Chromium with tools/bootstrap --test if it is
# missing; exits 77 (CTest's "skipped") only if it still cannot be found.

find_chromium() {
    local name=$1 root=$2
    browser=$(command -v chromium || command -v chromium-browser || true)
    if [[ -z $browser ]]; then
        "$root/tools/bootstrap" --test >/dev/null 2>&1 || true
        browser=$(command -v chromium || command -v chromium-browser || true)
    fi
    if [[ -z $browser ]]; then
        echo "$name: skipped: chromium is not installed and tools/bootstrap --test could not install it"
        exit 77
    fi
}
