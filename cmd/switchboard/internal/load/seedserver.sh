#!/usr/bin/env bash
# Builds the seed article's TypeScript webhook server in a scratch folder
# outside the repository, for the side-by-side load run (make seed-compare):
# the server's code is cut from the article as published, its packages come
# from npm (the article's Quick Start list), and tsc compiles it to dist/server.js.
# Usage: seedserver.sh ARTICLE|FOLDER DIR
set -euo pipefail
article=${1:?article text, or the folder holding it}
dir=${2:?scratch folder}
if [ -d "$article" ]; then
	article=$(grep -l "app.post('/webhook/call-handler'" "$article"/* | head -1)
fi
mkdir -p "$dir/src"
# The server is the article's Step 2 listing: from its first import to app.listen.
awk '/^import express/ {on=1} on {print} on && /^app\.listen\(/ {exit}' "$article" >"$dir/src/server.ts.new"
grep -q "app.post('/webhook/call-handler'" "$dir/src/server.ts.new" || { echo "seedserver.sh: no server found in $article" >&2; exit 1; }
mv "$dir/src/server.ts.new" "$dir/src/server.ts"
cd "$dir"
if [ ! -d node_modules/express ] || [ ! -d node_modules/openai ]; then
	[ -f package.json ] || npm init -y >/dev/null
	npm install --no-audit --no-fund --silent express openai dotenv @types/express @types/node typescript >/dev/null
fi
cat >tsconfig.json <<'JSON'
{"compilerOptions": {"target": "ES2022", "module": "commonjs", "esModuleInterop": true, "outDir": "dist",
 "rootDir": "src", "skipLibCheck": true, "strict": false, "noEmitOnError": false}}
JSON
# The article's handler returns res.json() from an async handler, which newer
# Express typings reject; the JavaScript is what runs, so type errors do not stop the build.
npx tsc -p . >tsc.log 2>&1 || true
test -f dist/server.js || { cat tsc.log >&2; exit 1; }
echo "$dir/dist/server.js"
