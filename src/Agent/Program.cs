using P2PRegistry.Hosting;

return await ComponentHost.RunAsync("p2pregistry-agent", () =>
{
    var builder = WebApplication.CreateSlimBuilder(args).ApplyComponentDefaults();
    builder.Services.AddOperationalEndpoints("P2PRegistry.Agent");
    var app = builder.Build();
    app.MapOperationalEndpoints();
    return app;
}).ConfigureAwait(false);
