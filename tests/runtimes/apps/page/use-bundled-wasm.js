// esbuild recipe 2: import the .wasm through the package's subpath export (esbuild's "file"
// loader turns it into a URL) and hand it to init() before anything calls getToken.
import wasmUrl from "registry-token/registry_token_bg.wasm";
import { init } from "registry-token";

init(new URL(wasmUrl, import.meta.url));
