// Runs cdk-nag's AwsSolutions rules over every stack of a synthesized cloud assembly, offline:
//
//   node .tools/aws-checks/nag.js cdk.out
//
// cdk-nag 3 needs aws-cdk-lib >= 2.257 and the C# app's NuGet CDK is 2.160, so the templates are brought into a CDK app of
// this package's own with cloudformation-include, one stack each, and checked there (validateScope: no synth, no AWS).
// The app acknowledges the findings it accepts in each resource's template metadata, in cdk-nag's format:
//   "Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-S1", "reason": "..."}]}}
// An id with a [...] part acknowledges that finding only; an id without one, every finding of that rule on the resource.
// Exits 1 when a finding (error or warning) is not acknowledged, when an acknowledgement has no reason of at least 20
// characters, or when it matches no finding (it would hide a future one); prints each.
'use strict';

const { App, Stack, BootstraplessSynthesizer } = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const { AwsSolutionsChecks } = require('cdk-nag');
const { stacks } = require('./templates');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node nag.js CLOUD_ASSEMBLY_DIR');
  process.exit(2);
}

const app = new App();
const acknowledged = new Map(); // construct path -> [{id, reason, used}]
const problems = [];
for (const { name, file, template } of stacks(dir)) {
  const stack = new Stack(app, name, { synthesizer: new BootstraplessSynthesizer() });
  new CfnInclude(stack, 'Template', { templateFile: file });
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const rules = resource.Metadata?.cdk_nag?.rules_to_suppress ?? [];
    const where = `${name}/Template/${id}`;
    for (const rule of rules) {
      if (typeof rule.reason !== 'string' || rule.reason.trim().length < 20) {
        problems.push(`${where}: the acknowledgement of ${rule.id} has no reason (at least 20 characters).`);
      }
    }
    if (rules.length > 0) acknowledged.set(where, rules.map((r) => ({ ...r, used: false })));
  }
}

const report = new AwsSolutionsChecks(app).validateScope(app);
let findings = 0;
let accepted = 0;
for (const violation of report.violations) {
  const rule = violation.ruleName;
  for (const resource of violation.violatingResources) {
    findings++;
    const match = (acknowledged.get(resource.constructPath) ?? [])
      .find((a) => a.id === rule || (!a.id.includes('[') && rule.startsWith(`${a.id}[`)));
    if (match) {
      match.used = true;
      accepted++;
    } else {
      problems.push(`${resource.constructPath}: ${rule} (${violation.severity}): ${violation.description}`);
    }
  }
}
for (const [where, rules] of acknowledged) {
  for (const rule of rules.filter((r) => !r.used)) problems.push(`${where}: ${rule.id} is acknowledged but cdk-nag found nothing it covers.`);
}

console.log(`cdk-nag AwsSolutions: ${findings} findings in ${stacks(dir).length} stacks, ${accepted} acknowledged with a reason, ${problems.length} problems.`);
for (const problem of problems) console.log(`  ${problem}`);
process.exit(problems.length === 0 ? 0 : 1);
