import * as fs from 'node:fs';
import * as path from 'node:path';

// Every run starts with an empty screenshots folder; the specs only add to it
// (each spec numbers its own files, so the order of the files does not matter).
export default function globalSetup() {
  fs.rmSync(path.join(__dirname, 'screenshots'), { recursive: true, force: true });
  fs.mkdirSync(path.join(__dirname, 'screenshots'), { recursive: true });
}
