// Debian's Chromium, as the browser tests and the UI-session bench drive it (playwright-core): headless, as root
// without its sandbox, and without the background traffic that would blur what the page itself sends.
import { Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package installs the browser (`apt-get install -y chromium`). */
export const CHROMIUM = "/usr/lib/chromium/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
