// dashboard.mjs URL SCREENSHOT NRCOMPS [SECONDS [NODES [NAMES]]] -- loads the DVM dashboard in
// headless Chromium (Debian's /usr/bin/chromium, driven by puppeteer-core;
// no browser download) and checks what a person would see: every RComp of
// every node listed, the task stream drawn (bars), the run's output, and
// no console error or failed request.  Saves a screenshot.  Prints one
// JSON line with what it saw; exits non-zero on any failure.  Without
// SECONDS it waits for the run to finish; with it, it looks after that
// many seconds of a run still going (0: wait for the end too).  NAMES,
// comma-separated: nodes that must be listed, each with RComp rows.
import puppeteer from "puppeteer-core";

const [url, shot, nrcomps, secs, nnodes = "1", names = ""] = process.argv.slice(2);
const seconds = Number(secs || 0);
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const problems = [];
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(url, { waitUntil: "load", timeout: 15000 });
  // Polls until bars are drawn and the run is over with its output in (or
  // has run SECONDS).
  if (seconds) await new Promise((r) => setTimeout(r, 1000 * Number(seconds)));
  await page.waitForFunction((any) =>
    (any || document.getElementById("status").textContent.startsWith("finished")) &&
    Number(document.body.dataset.bars || 0) > 0 &&
    (any || document.getElementById("output").textContent.length > 0),
    { timeout: 20000, polling: 100 }, Boolean(seconds));
  await new Promise((r) => setTimeout(r, 600));   // one more poll and frame
  const seen = await page.evaluate(() => {
    const c = document.getElementById("stream");
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i]) painted++;
    return {
      nodes: document.querySelectorAll("#nodes tr.node").length,
      rcomps: document.querySelectorAll("#nodes tr.rcomp").length,
      bars: Number(document.body.dataset.bars),
      polls: Number(document.body.dataset.polls),
      painted,
      committed: document.getElementById("committed").textContent,
      output: document.getElementById("output").textContent.slice(-20),
      slowestPollMs: Number(document.body.dataset.slowest),
      names: [...document.querySelectorAll("#nodes tr.node")].map((r) => r.dataset.node),
      rcompsOf: Object.fromEntries([...document.querySelectorAll("#nodes tr.node")].map((r) =>
        [r.dataset.node, document.querySelectorAll(`#nodes tr.rcomp[data-node="${r.dataset.node}"]`).length])),
    };
  });
  await page.screenshot({ path: shot, fullPage: true });
  if (seen.nodes !== Number(nnodes)) problems.push(`nodes listed: ${seen.nodes}, want ${nnodes}`);
  if (seen.bars > 65536) problems.push(`bars not bounded: ${seen.bars}`);
  if (seconds && seen.polls < 3) problems.push(`only ${seen.polls} polls in ${seconds} s`);
  if (seen.rcomps !== Number(nrcomps)) problems.push(`rcomps listed: ${seen.rcomps}, want ${nrcomps}`);
  for (const n of names ? names.split(",") : [])
    if (!seen.rcompsOf[n]) problems.push(`node ${n} not listed with its RComps`);
  if (seen.painted < 100) problems.push(`task stream barely drawn: ${seen.painted} pixels`);
  console.log(JSON.stringify(seen));
} catch (e) {
  problems.push(String(e));
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
