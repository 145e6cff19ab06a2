import { DirectoryStore } from '../../../../storage/directory-store.js';
import { tempDir } from '../../../helpers.js';

/** An empty DirectoryStore in a temporary folder, closed and removed when the test ends. */
export function openDirectory(t: { teardown(fn: () => unknown): void }): DirectoryStore {
  const d = tempDir();
  const dir = DirectoryStore.open(d.path);
  t.teardown(async () => {
    await dir.close();
    d.remove();
  });
  return dir;
}
