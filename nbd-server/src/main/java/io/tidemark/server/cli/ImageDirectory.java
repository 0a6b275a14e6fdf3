package io.tidemark.server.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --image-dir} of {@code serve}: the one directory exports may come from. A relative
 * export path is taken inside it; any path must lead, once {@code ..} and every symbolic link
 * are resolved, to a file inside it, and that resolved file is what gets opened, so links that
 * exist at start cannot point the server elsewhere. The check and the open are two steps by path
 * (the devices open with plain {@code open(2)}, which follows links): whoever may write inside
 * the directory while the server starts can still swap a link in between, and a hard link to a
 * file outside looks like a file inside. The directory must be writable by trusted users only.
 */
final class ImageDirectory {

    private final Path root;

    private ImageDirectory(Path root) {
        this.root = root;
    }

    static ImageDirectory of(Path dir) throws IOException {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(dir.toString(), null, "--image-dir: no such directory");
        }
        if (!Files.isDirectory(real)) {
            throw new IOException("--image-dir " + dir + " is not a directory");
        }
        return new ImageDirectory(real);
    }

    /** The exports with their paths resolved inside this directory; the first one outside it is an error. */
    List<ExportSpec> confine(List<ExportSpec> exports) throws IOException {
        List<ExportSpec> confined = new ArrayList<>();
        for (ExportSpec spec : exports) {
            confined.add(spec.withPath(resolve(spec.name(), spec.path())));
        }
        return confined;
    }

    /** The real file {@code path} (relative to this directory unless absolute) names, if it lies inside. */
    Path resolve(String export, Path path) throws IOException {
        Path candidate = root.resolve(path);
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(candidate.toString(), null, "export '" + export + "': no such image");
        }
        if (real.equals(root) || !real.startsWith(root)) {
            throw new IOException("export '" + export + "': " + path + " resolves to " + real
                    + ", which is outside the image directory " + root);
        }
        return real;
    }
}
