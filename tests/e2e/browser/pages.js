// certauth serve (the fixtures' demo configuration, on a free port of
// 127.0.0.1) opened in Debian's Chromium, driven by playwright-core: each
// fixture client presents its .p12 through Playwright's clientCertificates,
// and the test reads what a person sees. For each: the status, the visible
// text (joe's name; bob's fingerprint; carol's 403 naming the role; the
// no-certificate instructions; expired since when), that no script runs on a
// page built from a hostile certificate (CN=<script>..., O=<img onerror=...>)
// nor one the page is made to insert (the Content-Security-Policy), that no
// request leaves the server's origin, that the phone width needs no
// horizontal scrolling, and screenshots at 1280x800 and 390x844 (light and
// dark) written to $CERTAUTH_BUILD_DIR/browser-pages/ for a person to look at.
// A second serve with --upstream to a port nothing listens on shows joe the
// page for an application that is down (502), its detail folded away.
//
// Exit 0: passed; 1: failed; 77: skipped (no Chromium, or no
// playwright-core: scripts/bootstrap.sh installs both).
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const SKIP = 77;
const chromiumPath = process.env.CERTAUTH_CHROMIUM || '/usr/bin/chromium';
const certauth = process.env.CERTAUTH;
const sourceDir = process.env.CERTAUTH_SOURCE_DIR || path.resolve(__dirname, '../../..');
const buildDir = process.env.CERTAUTH_BUILD_DIR || path.join(sourceDir, 'build');
const fixtures = path.join(sourceDir, 'fixtures');
const passphrase = 'certauth'; // fixtures/README.md

let playwright;
try {
    playwright = require('playwright-core');
} catch (error) {
    console.log(`SKIP: playwright-core is not installed (run scripts/bootstrap.sh, or npm ci): ${error.message}`);
    process.exit(SKIP);
}
if (!fs.existsSync(chromiumPath)) {
    console.log(`SKIP: no Chromium at ${chromiumPath} (Debian package chromium; scripts/bootstrap.sh installs it)`);
    process.exit(SKIP);
}
if (!certauth) {
    console.error('CERTAUTH (the certauth binary) is not set');
    process.exit(1);
}

// Bounds every wait of the test.
function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let skipped = false;

// The serve children, killed however this process ends (a timeout included).
const serveChildren = [];
process.on('exit', () => {
    for (const child of serveChildren) if (child.exitCode === null) child.kill('SIGKILL');
});

// `certauth serve --listen 127.0.0.1:0` (and `extra` arguments) in
// fixtures/; resolves with the child and its port once it prints its
// start-up line.
function startServe(extra = []) {
    const child = childProcess.spawn(certauth, ['serve', '--listen', '127.0.0.1:0', '--no-access-log', ...extra], {
        cwd: fixtures,
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    serveChildren.push(child);
    let stderr = '';
    const started = new Promise((resolve, reject) => {
        child.stderr.on('data', (chunk) => {
            stderr += chunk;
            const match = /listening on https:\/\/[^ ]*:(\d+)/.exec(stderr);
            if (match) resolve(Number(match[1]));
        });
        child.on('exit', (code) => reject(new Error(`certauth serve exited (${code}): ${stderr}`)));
        child.on('error', reject);
    });
    return withTimeout(started, 30000, 'certauth serve start-up').then((port) => ({ child, port }));
}

// A port of 127.0.0.1 that was free a moment ago, and is closed again.
function closedPort() {
    const listening = new Promise((resolve, reject) => {
        const server = net.createServer();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
    return withTimeout(listening, 5000, 'a free port');
}

function stopServe(serve) {
    if (!serve || serve.child.exitCode !== null) return Promise.resolve();
    return withTimeout(
        new Promise((resolve) => {
            serve.child.on('exit', resolve);
            serve.child.kill('SIGTERM');
        }),
        10000,
        'certauth serve stop',
    ).catch(() => serve.child.kill('SIGKILL'));
}

async function main() {
    const outDir = path.join(buildDir, 'browser-pages');
    fs.mkdirSync(outDir, { recursive: true });
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'certauth-browser-'));
    let serve;
    let gateway;
    let browser;
    try {
        serve = await startServe();
        const serveOrigin = `https://localhost:${serve.port}`;
        gateway = await startServe(['--upstream', `http://127.0.0.1:${await closedPort()}`]);
        const gatewayOrigin = `https://localhost:${gateway.port}`;
        try {
            browser = await withTimeout(
                playwright.chromium.launch({
                    executablePath: chromiumPath,
                    // Chromium keeps its profile, caches and crash reports in HOME.
                    env: { ...process.env, HOME: scratch },
                }),
                60000,
                'Chromium launch',
            );
        } catch (error) {
            // Chromium is there but cannot run at all on this machine.
            console.log(`SKIP: ${chromiumPath} does not start: ${error.message}`);
            skipped = true;
            return;
        }

        // A new browser context (a fresh profile) presenting `stem`'s .p12
        // ("" for none); `check` gets the page, its response and the
        // requests the page made. `options.origin`: another server's.
        async function visit(stem, target, options, check) {
            const origin = options.origin || serveOrigin;
            const contextOptions = {
                // Playwright relays the TLS connection to present the client
                // certificate; the browser sees the relay's certificate.
                ignoreHTTPSErrors: true,
                viewport: options.viewport || { width: 1280, height: 800 },
                colorScheme: options.colorScheme || 'light',
            };
            if (stem) {
                contextOptions.clientCertificates = [
                    { origin, pfxPath: path.join(fixtures, `${stem}.p12`), passphrase },
                ];
            }
            const context = await browser.newContext(contextOptions);
            try {
                const page = await context.newPage();
                page.setDefaultTimeout(15000);
                const requests = [];
                const dialogs = [];
                const consoleErrors = [];
                page.on('request', (request) => requests.push(request.url()));
                page.on('dialog', (dialog) => {
                    dialogs.push(dialog.message());
                    dialog.dismiss().catch(() => {});
                });
                page.on('console', (message) => {
                    if (message.type() === 'error') consoleErrors.push(message.text());
                });
                const response = await page.goto(origin + target, { waitUntil: 'load' });
                if (options.screenshot) await screenshot(page, path.join(outDir, options.screenshot));
                await check({ page, response, requests, dialogs, consoleErrors });
                for (const url of requests)
                    assert.strictEqual(new URL(url).origin, origin, `${stem}: a request left the origin: ${url}`);
                assert.deepStrictEqual(dialogs, [], `${stem}: a script ran (a dialog opened)`);
            } finally {
                await context.close();
            }
        }

        // Chromium now and then cannot capture a page on a loaded machine
        // ("Unable to capture screenshot"): up to three tries, 200 ms apart.
        async function screenshot(page, file) {
            for (let attempt = 1; ; attempt += 1) {
                try {
                    return await page.screenshot({ path: file, fullPage: true });
                } catch (error) {
                    if (attempt >= 3 || !/Unable to capture screenshot/.test(String(error))) throw error;
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
            }
        }

        const text = (page) => page.innerText('body');
        let checks = 0;
        const passed = (what) => {
            checks += 1;
            console.log(`ok ${checks} - ${what}`);
        };

        for (const size of [
            { width: 1280, height: 800, name: 'desktop' },
            { width: 390, height: 844, name: 'phone' },
        ]) {
            const viewport = { width: size.width, height: size.height };
            const narrow = async (page, who) => {
                const width = await page.evaluate(() => document.documentElement.scrollWidth);
                assert.ok(width <= size.width, `${who}: ${width} px wide in a ${size.width} px window`);
            };

            await visit('joe', '/', { viewport, screenshot: `joe-${size.name}.png` }, async ({ page, response }) => {
                assert.strictEqual(response.status(), 200);
                assert.strictEqual(await page.textContent('h1'), 'Joe Example');
                const body = await text(page);
                assert.match(body, /admin/);
                assert.match(body, /CN=certauth test CA/);
                assert.match(body, /2049-12-31/);
                await narrow(page, 'joe');
            });
            passed(`joe sees his name and role (200), ${size.name}`);

            await visit('bob', '/', { viewport, screenshot: `bob-${size.name}.png` }, async ({ page, response }) => {
                assert.strictEqual(response.status(), 401);
                assert.strictEqual(response.headers()['x-certauth-reason'], 'unknown_user');
                const fingerprint = (await page.textContent('code.fingerprint')).replace(/\s/g, '');
                assert.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
                assert.strictEqual(fingerprint, '7B:B1:23:FB:81:3C:98:C2:82:CA:15:3E:1D:A6:AF:CE:C8:8B:B9:92:B5:2D:B1:E4:0D:0E:95:A0:66:81:2F:9D');
                assert.match(await text(page), /give the administrator the fingerprint/);
                await narrow(page, 'bob');
            });
            passed(`bob (unknown) is given his fingerprint for the administrator (401), ${size.name}`);

            await visit('', '/', { viewport, screenshot: `no-certificate-${size.name}.png` }, async ({ page, response }) => {
                assert.strictEqual(response.status(), 401);
                assert.strictEqual(response.headers()['x-certauth-reason'], 'no_certificate');
                const body = await text(page);
                assert.match(body, /Your browser sent no certificate/);
                assert.match(body, /\.p12/);
                assert.match(body, /Firefox/);
                assert.match(body, /Chrome/);
                assert.match(body, /Quit the browser and start it again/);
                await narrow(page, 'no certificate');
            });
            passed(`no certificate: how to import one and choose it (401), ${size.name}`);
        }

        await visit('joe', '/', { colorScheme: 'dark', screenshot: 'joe-desktop-dark.png' }, async ({ page }) => {
            const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
            assert.strictEqual(background, 'rgb(13, 17, 23)', 'the dark scheme');
        });
        await visit('joe', '/', { colorScheme: 'light' }, async ({ page }) => {
            const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
            assert.strictEqual(background, 'rgb(243, 244, 246)', 'the light scheme');
        });
        passed('light and dark follow prefers-color-scheme');

        await visit('carol', '/admin', {}, async ({ page, response }) => {
            assert.strictEqual(response.status(), 403);
            assert.match(await text(page), /This page needs the role admin; you \(Carol Example\) have the role reader\./);
        });
        passed("carol (reader) is told /admin needs the role admin (403)");

        await visit('expired', '/', {}, async ({ page, response }) => {
            assert.strictEqual(response.status(), 401);
            assert.match(await text(page), /It expired on 2021-01-01 \(\d+ years ago\)/);
        });
        passed('expired: since when (401)');

        await visit('hostile', '/', { screenshot: 'hostile-desktop.png' }, async ({ page, response, requests, consoleErrors }) => {
            assert.strictEqual(response.status(), 401);
            // The markup of the certificate is text on the page, not elements.
            assert.match(await text(page), /<script>alert\(1\)<\/script>/);
            assert.strictEqual(await page.locator('script').count(), 0);
            assert.strictEqual(await page.locator('img').count(), 0);
            // A script the page is made to insert does not run, an image from
            // elsewhere does not load: the Content-Security-Policy forbids
            // both (Playwright logs the image's attempt, which is dropped
            // from the origin check below).
            const asked = requests.length;
            const ran = await page.evaluate(async () => {
                const violations = [];
                document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
                const script = document.createElement('script');
                script.textContent = 'window.__certauthRan = true;';
                document.body.appendChild(script);
                const image = document.createElement('img');
                image.src = 'https://example.invalid/x.png';
                document.body.appendChild(image);
                await new Promise((resolve) => setTimeout(resolve, 200));
                return { ran: window.__certauthRan === true, violations };
            });
            requests.length = asked;
            assert.strictEqual(ran.ran, false, 'an inserted script ran');
            assert.ok(ran.violations.some((d) => d.startsWith('script-src')), `violations: ${ran.violations}`);
            assert.ok(ran.violations.some((d) => d.startsWith('img-src')), `violations: ${ran.violations}`);
            assert.ok(consoleErrors.some((m) => /Content Security Policy/.test(m)), 'no CSP report in the console');
        });
        passed('a hostile CN shows as text; no script runs, none may be inserted; no other origin is asked');

        await visit('joe', '/report', { origin: gatewayOrigin, screenshot: 'bad-gateway-desktop.png' }, async ({ page, response }) => {
            assert.strictEqual(response.status(), 502);
            assert.strictEqual(response.headers()['content-type'], 'text/html; charset=utf-8');
            const seen = await text(page);
            assert.match(seen, /The application is not answering/);
            assert.match(seen, /Try again in a moment/);
            assert.doesNotMatch(seen, /refused the connection/, 'the detail is folded away');
            await page.click('summary');
            assert.match(await text(page), /the application at http:\/\/127\.0\.0\.1:\d+ refused the connection/);
        });
        passed('with --upstream and the application down, joe gets a page that says so (502)');

        console.log(`1..${checks}`);
        console.log(`screenshots: ${outDir}`);
    } finally {
        if (browser) await browser.close().catch(() => {});
        await stopServe(serve);
        await stopServe(gateway);
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

withTimeout(main(), 240000, 'the browser test')
    .then(() => process.exit(skipped ? SKIP : 0))
    .catch((error) => {
        console.error(`FAIL: ${error.stack || error}`);
        process.exit(1);
    });
