# Sourced by .ci/run (and by hand: `source scripts/ensure-node.sh`): puts a Node >= 22.22 first on
# PATH for the rest of the shell. The choice and the download are scripts/with-node.mjs's (the
# launcher npm scripts go through): the machine's Node when new enough, else EDGEBUS_NODE_VERSION
# (default 24.21.0) from the npm registry, cached in $EDGEBUS_CACHE (default ~/.cache/edgebus).
edgebus_node_bin=""
if ! command -v node >/dev/null 2>&1; then
  echo "ensure-node: no node on PATH: install Node (>= 22.22, or Node 20 to fetch one)" >&2
  return 1 2>/dev/null || exit 1
fi
edgebus_node_bin=$(node "$(dirname "${BASH_SOURCE[0]:-scripts/ensure-node.sh}")/with-node.mjs" --print-bin-dir) || {
  echo "ensure-node: could not provide Node >= 22.22" >&2
  return 1 2>/dev/null || exit 1
}
[ "$(command -v node)" = "$edgebus_node_bin/node" ] || export PATH="$edgebus_node_bin:$PATH"
unset edgebus_node_bin
echo "ensure-node: using Node $(node --version)" >&2
