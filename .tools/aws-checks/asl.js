// Writes the definition of every AWS::StepFunctions::StateMachine in a cloud assembly to a JSON file, for asl-validator:
//
//   node .tools/aws-checks/asl.js cdk.out OUTDIR      (prints the files written, one a line)
//
// A definition is a string built with Fn::Join around references to other resources; each reference becomes a value of
// its kind, so that the text is the JSON Step Functions would receive: the pseudo parameters their usual values
// (partition aws, region us-east-1, account 123456789012), anything else "ref-<logical id>" (a name, an ARN part). The
// ARNs of the service integrations (arn:aws:states:::lambda:invoke) are literal around the partition and stay checkable.
'use strict';

const fs = require('fs');
const path = require('path');
const { stacks } = require('./templates');

const PSEUDO = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'TallyStack',
};

function text(value) {
  if (typeof value === 'string') return value;
  if (value && value['Fn::Join']) {
    const [separator, parts] = value['Fn::Join'];
    return parts.map(text).join(separator);
  }
  if (value && typeof value.Ref === 'string') return PSEUDO[value.Ref] ?? `ref-${value.Ref}`;
  if (value && Array.isArray(value['Fn::GetAtt'])) return `ref-${value['Fn::GetAtt'].join('-')}`;
  if (value && value['Fn::ImportValue'] !== undefined) return 'ref-import';
  throw new Error(`unexpected value in a state machine definition: ${JSON.stringify(value)}`);
}

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node asl.js CLOUD_ASSEMBLY_DIR OUTDIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
let count = 0;
for (const stack of stacks(dir)) {
  for (const [id, resource] of Object.entries(stack.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = JSON.parse(text(resource.Properties.DefinitionString));
    const file = path.join(out, `${stack.name}.${id}.asl.json`);
    fs.writeFileSync(file, JSON.stringify(definition, null, 2));
    console.log(file);
    count++;
  }
}
if (count === 0) {
  console.error(`no state machine in ${dir}`);
  process.exit(1);
}
