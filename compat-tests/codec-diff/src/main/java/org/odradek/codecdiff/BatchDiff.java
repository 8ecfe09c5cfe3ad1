package org.odradek.codecdiff;

import java.nio.file.Path;

final class BatchDiff {
    BatchDiff(Tool tool, Report report, Path work, long seed) {
    }

    void run() {
    }
}
