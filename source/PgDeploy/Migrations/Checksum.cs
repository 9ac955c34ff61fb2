using System.Security.Cryptography;
using System.Text;

namespace PgDeploy.Migrations;

public static class Checksum
{
    /// Line endings and a byte-order mark are normalised first: a Windows checkout of an applied
    /// script is the same script, and must not be reported as edited.
    public static string Of(string content)
    {
        var normalized = content.TrimStart('\uFEFF').Replace("\r\n", "\n");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
    }
}
