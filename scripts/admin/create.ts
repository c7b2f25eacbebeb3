/**
 * `npm run admin:create -- --email ops@example.com [--name "Ops"]`: creates an admin, or promotes (and re-enables)
 * an existing account, against DATABASE_URL. This is how a production database gets its first admin.
 * The password comes from ADMIN_PASSWORD, or is asked for without echo; it is hashed exactly as sign-in hashes.
 */
import { parseArgs } from 'node:util';
import { stdin, stdout } from 'node:process';
import { weakHashParams } from '../../src/auth/hash-params';
import { DEFAULT_HASH_PARAMS, ensureAdmin } from './ensure-admin';
import { readDevVars } from '../dev/vars';

const { values } = parseArgs({
  options: { email: { type: 'string' }, name: { type: 'string', default: 'Administrator' }, 'keep-password': { type: 'boolean', default: false } },
});

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stdin.isTTY) return reject(new Error('no terminal to ask for the password: set ADMIN_PASSWORD'));
    stdout.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          stdout.write('\n');
          return resolve(text);
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function main() {
  // Without DATABASE_URL, the local database of `npm run dev` (which must be running).
  const databaseUrl = process.env.DATABASE_URL || readDevVars().DATABASE_URL;
  if (!databaseUrl) throw new Error('set DATABASE_URL to the database to change (or run `npm run dev` for the local one)');
  if (!values.email) throw new Error('usage: npm run admin:create -- --email <email> [--name <name>] [--keep-password]');
  let password = process.env.ADMIN_PASSWORD;
  if (!password && !values['keep-password']) {
    password = await askHidden('Password for the admin (12..128 characters): ');
    if ((await askHidden('Again: ')) !== password) throw new Error('the passwords differ');
  }
  if (password !== undefined) {
    const length = [...password].length;
    if (length < 12 || length > 128) throw new Error('the password must be 12..128 characters');
  }
  const params = process.env.PASSWORD_HASH_PARAMS ?? DEFAULT_HASH_PARAMS;
  const weak = weakHashParams(params);
  if (weak) throw new Error(`PASSWORD_HASH_PARAMS ${weak}`);
  const outcome = await ensureAdmin(databaseUrl, { email: values.email, name: values.name!, password, keepPassword: values['keep-password'] }, params);
  console.log(`${values.email.trim().toLowerCase()}: ${outcome === 'created' ? 'created as admin' : outcome === 'promoted' ? 'is an enabled admin' : 'already an admin'}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
