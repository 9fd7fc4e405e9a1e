import { defineConfig } from '@playwright/test';

// Against a running stack (scripts/test.sh gives BACKEND_URL); Debian's chromium, nothing downloaded.
export default defineConfig({
  testDir: 'tests',
  outputDir: '../results/web/artifacts',
  timeout: 60_000,
  expect: { timeout: 5_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.BACKEND_URL ?? 'http://127.0.0.1:8080',
    viewport: { width: 390, height: 844 },  // a phone's width
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
