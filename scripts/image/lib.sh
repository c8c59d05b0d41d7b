# Shared by the image scripts: where buildah keeps its images (a storage of our own under
# .tools, so nothing touches the machine's /var/lib/containers) and how to call it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}"
IMAGE_DIR="$TOOLS/image"
STORAGE="$IMAGE_DIR/containers"
mkdir -p "$IMAGE_DIR"

bh() { buildah --root "$STORAGE/storage" --runroot "$STORAGE/run" --storage-driver overlay "$@"; }

# The apt packages the image and node scripts need, installed when missing (root, Debian).
need_tools() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (install them: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "installing ${missing[*]} (apt-get)" >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}
