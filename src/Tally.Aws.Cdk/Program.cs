using Amazon.CDK;
using Tally;
using Tally.Aws.Cdk;

try
{
    var app = new App();
    TallyApp.Build(app);
    app.Synth();
    return 0;
}
catch (TallyException e)
{
    // A mistake in the context or the settings file: its one sentence, not a stack trace (cdk prints the app's stderr).
    Console.Error.WriteLine(e.Message);
    return 1;
}
