// Changelog lines for `changeset version` (see .changeset/config.json): one bullet per changeset,
// and a dependency bullet only when a dependency had been released before. At the first release
// (every package from 0.0.0 to 0.1.0) each CHANGELOG.md therefore holds one "Initial release" entry
// instead of "Patch Changes: Updated dependencies" for packages that were never published.
'use strict';

/** @type {import('@changesets/types').ChangelogFunctions} */
module.exports = {
  async getReleaseLine(changeset) {
    const [first, ...rest] = changeset.summary.trim().split('\n');
    return [`- ${first}`, ...rest.map((l) => (l.trim() === '' ? '' : `  ${l}`))].join('\n');
  },
  async getDependencyReleaseLine(_changesets, dependencies) {
    const updated = dependencies.filter((d) => d.oldVersion !== '0.0.0');
    if (updated.length === 0) return '';
    return `- Updated dependencies: ${updated.map((d) => `${d.name}@${d.newVersion}`).join(', ')}`;
  },
};
