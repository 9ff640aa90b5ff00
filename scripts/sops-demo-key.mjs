// `npm run sops:demo-key`: an age identity for examples/sops-demo (never for real data). Kept out of git.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdentity, identityToRecipient } from 'age-encryption';

const file = join(dirname(fileURLToPath(import.meta.url)), '../examples/sops-demo/out/demo.agekey');
if (existsSync(file)) {
  console.log(`${file} exists; keeping it`);
} else {
  const identity = await generateIdentity();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `# demo key for examples/sops-demo only\n# public key: ${await identityToRecipient(identity)}\n${identity}\n`, { mode: 0o600 });
  console.log(`wrote ${file}; decrypt with: SOPS_AGE_KEY_FILE=${file} sops -d <file>`);
}
