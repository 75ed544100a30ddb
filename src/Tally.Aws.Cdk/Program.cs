using Amazon.CDK;
using Tally.Aws.Cdk;

var app = new App();
TallyApp.Build(app);
app.Synth();
