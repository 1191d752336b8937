using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace P2PRegistry.Hosting.Configuration;

public static class ValidatedOptions
{
    /// <summary>
    /// Validates <typeparamref name="TOptions"/> when the host starts. <paramref name="validate"/> returns one message
    /// per problem, each naming the full key (e.g. <c>Agent:DataPath</c>) and the offending value, so a bad setting fails
    /// start clearly; the exception names <paramref name="sectionPath"/>. The caller binds first, with the concrete type
    /// (<c>services.AddOptions&lt;AgentOptions&gt;().Bind(section)</c>), so that the configuration binder's source
    /// generator writes the binding code: a bind of a generic type here would bind by reflection, which Native AOT cannot.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateAtStart<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        this OptionsBuilder<TOptions> builder,
        string sectionPath,
        Func<TOptions, IEnumerable<string>> validate)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .Validate(options =>
            {
                var errors = validate(options).ToList();
                return errors.Count == 0 ? true : throw new OptionsValidationException(sectionPath, typeof(TOptions), errors);
            })
            .ValidateOnStart();
    }
}
