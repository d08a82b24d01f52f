#!/bin/sh
# Lints the tarball `pnpm pack` makes of the package in the current folder, i.e. exactly
# what `pnpm publish` would upload: pnpm rewrites workspace:/catalog: versions and applies
# publishConfig.exports, which drops the repo-only "source" condition. Linting the folder
# instead would check a manifest no consumer ever sees.
set -eu
pack_dir=$(mktemp -d)
trap 'rm -rf "$pack_dir"' EXIT
pnpm pack --pack-destination "$pack_dir" >/dev/null
tarball=$(ls "$pack_dir"/*.tgz)
publint --strict "$tarball"
# ESM-only packages: CommonJS require() and node10 resolution are unsupported on purpose.
attw "$tarball" --profile esm-only --format table-flipped
