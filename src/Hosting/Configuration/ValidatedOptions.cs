using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace P2PRegistry.Hosting.Configuration;

public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from a configuration section and validates it when the host
    /// starts. <paramref name="validate"/> returns one message per problem, each naming the full key
    /// (e.g. <c>Origin:StoragePath</c>) and the offending value, so a bad setting fails start clearly.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(
        this IServiceCollection services,
        IConfigurationSection section,
        Func<TOptions, IEnumerable<string>> validate)
        where TOptions : class
    {
        return services.AddOptions<TOptions>()
            .Bind(section, binder => binder.ErrorOnUnknownConfiguration = false)
            .Validate(options =>
            {
                var errors = validate(options).ToList();
                return errors.Count == 0 ? true : throw new OptionsValidationException(section.Path, typeof(TOptions), errors);
            })
            .ValidateOnStart();
    }
}
