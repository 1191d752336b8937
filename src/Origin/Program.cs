var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.MapGet("/v2/", () => Results.Json(new { }));
app.Run();
