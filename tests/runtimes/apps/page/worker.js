// Worker entry for bundlers (Vite follows `new Worker(new URL("./worker.js", import.meta.url))`).
import { getToken } from "registry-token";
import { serve } from "./worker-core.js";

serve(getToken);
