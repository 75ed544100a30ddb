// The stacks of a synthesized cloud assembly (cdk.out): their names and templates, from its manifest.
'use strict';

const fs = require('fs');
const path = require('path');

/** [{name, file, template}] of every CloudFormation stack in the cloud assembly at `dir`. */
function stacks(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Object.entries(manifest.artifacts ?? {})
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([name, artifact]) => {
      const file = path.join(dir, artifact.properties.templateFile);
      return { name, file, template: JSON.parse(fs.readFileSync(file, 'utf8')) };
    });
}

module.exports = { stacks };
