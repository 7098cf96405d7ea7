# gpu-env.sh: sourced by gpu-check.sh and gpu-bench.sh (which set `name`) on the GPU machine:
# OUT (default ./$name-out), `log` (timestamped from here), `gpu` (the card's name); unpacks the
# bundle that scripts/gpu-bundle.mjs made (.gpu/: node, the addon, the op and NCCL checkers,
# xz-compressed) into /tmp/mae-gpu and sets `node` (empty without a bundle), MAE_NATIVE_ADDON and
# LD_LIBRARY_PATH.
OUT=${OUT:-$PWD/$name-out}
mkdir -p "$OUT"
t0=$(date +%s)
log() { echo "[$name +$(($(date +%s) - t0))s] $*"; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${gpu:-none}"

# the bundle's binaries travel xz-compressed: unpack them (xz, or Python's lzma) into /tmp/mae-gpu
node=""
unxz() { xz -dc "$1" >"$2" 2>/dev/null || python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2"; }
mkdir -p /tmp/mae-gpu
for f in node mae_native.node mae_op_check mae_nccl_check; do
  [ -f ".gpu/$f.xz" ] && unxz ".gpu/$f.xz" "/tmp/mae-gpu/$f" && chmod +x "/tmp/mae-gpu/$f"
done
[ -d .gpu/lib ] && export LD_LIBRARY_PATH=$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -x /tmp/mae-gpu/node ] && [ -f .gpu/mae-cuda.mjs ]; then
  node=/tmp/mae-gpu/node
  export MAE_NATIVE_ADDON=/tmp/mae-gpu/mae_native.node
  log "node $($node --version 2>&1) from .gpu/"
fi

