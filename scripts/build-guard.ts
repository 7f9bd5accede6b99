// npm run build:guard [OUT_DIR]: builds the guard's bundle and its catalog (guard/build.ts) into dist/guard.
import { buildGuard } from "../guard/build";

try {
  const b = buildGuard(process.argv[2]);
  console.log(`${b.mainFile}: ${(b.mainBytes / 1024).toFixed(1)} KiB`);
  console.log(b.catalogFile);
} catch (e) {
  console.error(`build-guard: ${(e as Error).message}`);
  process.exit(1);
}
