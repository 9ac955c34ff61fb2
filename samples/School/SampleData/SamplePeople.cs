using Bogus;

namespace School;

sealed record SampleSchool(int Id, string Name, string EmailDomain, DateTime CreatedAt);

sealed record SampleUser(int Id, int SchoolId, string Role, string FirstName, string LastName, string Password, DateTime CreatedAt);

/// Schools and people, made in C# because Bogus's name lists are what make them look real; everything
/// bigger is made by set-based SQL. Every random choice comes from the seed.
sealed class SamplePeople(SampleSize size, int seed)
{
    // Mostly English names, with the accents, apostrophes and letters beyond ASCII that a real school has.
    static readonly (string Locale, int Weight)[] NameLocales = [("en", 70), ("es", 8), ("de", 5), ("fr", 5), ("pl", 4), ("vi", 4), ("tr", 4)];
    static readonly string[] SchoolKinds = ["High School", "Middle School", "Academy"];
    static readonly DateTime FirstSignup = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    static readonly DateTime LastSignup = new(2024, 8, 1, 0, 0, 0, DateTimeKind.Utc);

    public IReadOnlyList<SampleSchool> Schools()
    {
        var faker = new Faker("en") { Random = new Randomizer(seed) };
        var names = new HashSet<string>();
        var schools = new List<SampleSchool>();
        while (schools.Count < size.Schools)
        {
            var city = faker.Address.City();
            var kind = faker.PickRandom(SchoolKinds);
            if (!names.Add($"{city} {kind}"))
                continue;
            // English place names are plain ASCII, so keeping the letters makes a valid domain.
            var domain = $"{new string(city.ToLowerInvariant().Where(char.IsAsciiLetter).ToArray())}-{kind.Split(' ')[0].ToLowerInvariant()}.example";
            schools.Add(new SampleSchool(schools.Count + 1, $"{city} {kind}", domain, FirstSignup.AddDays(-30 * (size.Schools - schools.Count))));
        }
        return schools;
    }

    public IEnumerable<SampleUser> Users(IReadOnlyList<SampleSchool> schools)
    {
        var random = new Random(seed);
        var roles = Roles(random);
        var fakers = NameLocales.Select((entry, index) => new Faker(entry.Locale) { Random = new Randomizer(seed * 31 + index) }).ToArray();
        var localeWeights = NameLocales.Select(entry => entry.Weight).ToArray();
        var totalWeight = localeWeights.Sum();
        var perRole = new Dictionary<string, int>();
        var signupStep = (LastSignup - FirstSignup) / size.Users;
        for (var id = 1; id <= size.Users; id++)
        {
            var role = roles[id - 1];
            // Round-robin within each role, so every school gets its share of admins, teachers and students.
            var rank = perRole[role] = perRole.GetValueOrDefault(role) + 1;
            var school = schools[(rank - 1) % schools.Count];
            var names = fakers[PickWeighted(random, localeWeights, totalWeight)].Name;
            var (first, last) = (names.FirstName(), names.LastName());
            yield return new SampleUser(id, school.Id, role, Untidy(random, first), last, SampleData.PlaintextPassword(id, seed),
                FirstSignup + signupStep * id);
        }
    }

    /// Roles in a shuffled order, so admins and teachers signed up over the years like everyone else.
    string[] Roles(Random random)
    {
        var roles = Enumerable.Repeat("admin", size.Admins)
            .Concat(Enumerable.Repeat("teacher", size.Teachers))
            .Concat(Enumerable.Repeat("student", size.Students))
            .ToArray();
        random.Shuffle(roles);
        return roles;
    }

    /// One name in a hundred was typed with a stray space, as hand-entered data is.
    static string Untidy(Random random, string name) => random.Next(100) == 0 ? name + " " : name;

    static int PickWeighted(Random random, int[] weights, int total)
    {
        var ticket = random.Next(total);
        var index = 0;
        while (ticket >= weights[index])
            ticket -= weights[index++];
        return index;
    }
}
