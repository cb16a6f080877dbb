// Worker entry without a bundler: Chromium does not apply a page's import map inside workers, so
// the browser entry is imported by path.
import { getToken } from "/node_modules/registry-token/index.browser.js";
import { serve } from "./worker-core.js";

serve(getToken);
