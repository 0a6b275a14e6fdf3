package io.tidemark.server.nbd;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Per-export allow-lists: which clients may open an export, by the name in their verified TLS
 * certificate (subject CN or a DNS subject alternative name) or by their source network. An
 * export without rules is open to every client; one with rules admits a client that matches
 * any of them.
 */
public final class ExportAccess {

    /** No rules: every export is open. */
    public static final ExportAccess OPEN = new ExportAccess(Map.of());

    /** The format of one rule on the command line. */
    public static final String FORMAT = "EXPORT=cert:NAME|addr:IP[/BITS]";

    /** A condition a client can meet. */
    sealed interface Rule {
        boolean admits(InetAddress address, X509Certificate certificate);
    }

    /** The client presented a verified certificate with this name. */
    record CertificateName(String name) implements Rule {
        @Override
        public boolean admits(InetAddress address, X509Certificate certificate) {
            return certificate != null && namesOf(certificate).contains(name);
        }
    }

    /** The client connects from this network. */
    record Network(byte[] prefix, int bits) implements Rule {
        @Override
        public boolean admits(InetAddress address, X509Certificate certificate) {
            if (address == null) {
                return false;
            }
            byte[] a = address.getAddress();
            if (a.length != prefix.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((a[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final Map<String, List<Rule>> rules;

    private ExportAccess(Map<String, List<Rule>> rules) {
        this.rules = rules;
    }

    /** Parses rules in {@link #FORMAT}; several rules for one export add up. */
    public static ExportAccess parse(Collection<String> specs) {
        Map<String, List<Rule>> rules = new HashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("access rule '" + spec + "' is not " + FORMAT);
            }
            rules.computeIfAbsent(spec.substring(0, eq), k -> new ArrayList<>()).add(rule(spec.substring(eq + 1)));
        }
        return new ExportAccess(Map.copyOf(rules));
    }

    private static Rule rule(String text) {
        if (text.startsWith("cert:") && text.length() > "cert:".length()) {
            return new CertificateName(text.substring("cert:".length()));
        }
        if (text.startsWith("addr:")) {
            return network(text.substring("addr:".length()));
        }
        throw new IllegalArgumentException("access rule '" + text + "' must start with cert: or addr:");
    }

    private static Network network(String text) {
        String[] parts = text.split("/", 2);
        if (!parts[0].matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
            throw new IllegalArgumentException("'" + parts[0] + "' is not an IP address");
        }
        byte[] prefix;
        try {
            prefix = InetAddress.getByName(parts[0]).getAddress(); // a literal: no name lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + parts[0] + "' is not an IP address");
        }
        int bits = prefix.length * 8;
        if (parts.length == 2) {
            try {
                bits = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > prefix.length * 8) {
                throw new IllegalArgumentException("prefix length in '" + text + "' must be 0 to " + prefix.length * 8);
            }
        }
        return new Network(prefix, bits);
    }

    /** Whether a client from {@code address} (null for a Unix socket) with {@code certificate} (null if none) may open {@code export}. */
    public boolean admits(String export, InetAddress address, X509Certificate certificate) {
        List<Rule> exportRules = rules.get(export);
        return exportRules == null || exportRules.stream().anyMatch(r -> r.admits(address, certificate));
    }

    public boolean isOpen() {
        return rules.isEmpty();
    }

    /** The subject CN and the DNS subject alternative names of a certificate. */
    static List<String> namesOf(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    names.add(rdn.getValue().toString());
                }
            }
            if (certificate.getSubjectAlternativeNames() != null) {
                for (List<?> san : certificate.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) { // dNSName
                        names.add(san.get(1).toString());
                    }
                }
            }
        } catch (InvalidNameException | CertificateParsingException e) {
            // a name we cannot read matches no rule
        }
        return names;
    }
}
