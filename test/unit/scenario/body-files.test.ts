import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../../src/scenario/load.js';

const scenario = (payload: string): string => `name: files
target: { baseUrl: 'http://127.0.0.1:1', path: /upload }
payload:
${payload}
effects: { http: { url: '/things?key={{key}}' } }
patterns: [{ kind: sequential-duplicates }]
`;

describe('body files', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-body-files-'));
    await writeFile(join(folder, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('are read next to the scenario and put in place as base64, the file name kept', async () => {
    const path = join(folder, 'ok.yaml');
    await writeFile(
      path,
      scenario(`  encoding: multipart
  template:
    title: x
    upload: { $file: ./blob.bin, contentType: image/png }`),
    );
    const [loaded] = await loadScenarioFile(path);
    expect(loaded?.scenario.payload.template).toEqual({
      title: 'x',
      upload: { $base64: 'AAEC/w==', filename: 'blob.bin', contentType: 'image/png' },
    });
  });

  it('that are missing, or have unknown keys beside them, are errors at their line and column', async () => {
    const path = join(folder, 'missing.yaml');
    await writeFile(path, scenario(`  encoding: binary\n  template: { $file: ./nope.bin }`));
    await expect(loadScenarioFile(path)).rejects.toThrow(
      /missing\.yaml:5:22 at payload\.template\.\$file: cannot read body file \.\/nope\.bin \(at .*nope\.bin\): ENOENT/,
    );
    const extra = join(folder, 'extra.yaml');
    await writeFile(
      extra,
      scenario(`  encoding: binary\n  template: { $file: ./blob.bin, mode: x }`),
    );
    await expect(loadScenarioFile(extra)).rejects.toThrow(
      'a {$file} body part may have filename and contentType beside it, not mode',
    );
  });
});
