#!/usr/bin/env bash
# The images the end-to-end tests on a real node run besides Reprise's, built with buildah
# (no registry here) as OCI archives in .tools/k8s/images/ and printed one per line:
#   shop-1.oci.tar     localhost/reprise-e2e-shop:1   test/cluster/shop/shop.mjs on the local
#                                                     Node base (an app that is not Reprise)
#   shop-2.oci.tar     localhost/reprise-e2e-shop:2   the same with SHOP_VARIANT=changed baked
#                                                     in: the "changed app image" of a replay
#   iptables.oci.tar   localhost/reprise-iptables:1   this machine's iptables (nft) with its
#                                                     libraries and extensions, on busybox: the
#                                                     init container of the transparent proxy
# Cached: an archive is rebuilt only when what goes into it changed.
set -euo pipefail
. "$(dirname "$0")/../image/lib.sh"
OUT="$TOOLS/k8s/images"
mkdir -p "$OUT"
base="$(bash "$ROOT/scripts/image/node-base.sh")"
exec 8>"$OUT/.test-build.lock"
flock 8

# build NAME IMAGE INPUTS SETUP: SETUP is called with the working container's id.
build() {
  local name=$1 image=$2 inputs=$3 setup=$4
  local archive="$OUT/$name.oci.tar" want ctr
  want="$image $(echo "$inputs $(bh inspect --type image --format '{{.FromImageID}}' "$base")" | sha256sum | cut -c1-16)"
  if [ -s "$archive" ] && [ "$(cat "$archive.inputs" 2>/dev/null)" = "$want" ]; then
    echo "$archive"
    return
  fi
  ctr="$(bh from --pull-never "$base")"
  "$setup" "$ctr"
  bh commit --quiet --rm "$ctr" "$image" >/dev/null
  rm -f "$archive.tmp"
  bh push --quiet "$image" "oci-archive:$archive.tmp:$image" >&2
  mv "$archive.tmp" "$archive"
  echo "$want" >"$archive.inputs"
  echo "test-images: $image -> $archive ($(du -m "$archive" | cut -f1) MB)" >&2
  echo "$archive"
}

SHOP="$ROOT/test/cluster/shop/shop.mjs"
shop() {
  bh copy --chmod 0644 "$1" "$SHOP" /app/shop.mjs >/dev/null
  bh config --user 1000:1000 --workingdir /app --entrypoint '["node","/app/shop.mjs"]' --cmd '[]' "$1"
}
shop_changed() {
  shop "$1"
  bh config --env SHOP_VARIANT=changed "$1"
}

XT=/usr/lib/x86_64-linux-gnu/xtables
iptables_files() {
  readlink -f /usr/sbin/xtables-nft-multi
  ldd /usr/sbin/xtables-nft-multi | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
  find "$XT" -name '*.so'
}
iptables() {
  local stage
  stage="$(mktemp -d "$OUT/.iptables-XXXXXX")"
  iptables_files | xargs -I{} cp -L --parents {} "$stage/"
  mkdir -p "$stage/usr/sbin" "$stage/run" "$stage/etc"
  ln -s xtables-nft-multi "$stage/usr/sbin/iptables"
  cp /etc/protocols "$stage/etc/protocols"
  bh copy "$1" "$stage" / >/dev/null
  rm -rf "$stage"
  bh config --user 0:0 --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --entrypoint '[]' --cmd '["iptables","--version"]' "$1"
}

need_tools buildah iptables
script="$(sha256sum "$0" | cut -c1-64)"
build shop-1 localhost/reprise-e2e-shop:1 "$script $(sha256sum "$SHOP" | cut -c1-64)" shop
build shop-2 localhost/reprise-e2e-shop:2 "$script $(sha256sum "$SHOP" | cut -c1-64) changed" shop_changed
build iptables localhost/reprise-iptables:1 "$script $(iptables_files | xargs sha256sum | sha256sum)" iptables
