export declare const BIN: string;
/** Runs the CLI in this process (same `main` as the bin), capturing its output. */
export declare function runCli(args: string[], cwd: string, date?: string): Promise<{
    code: number;
    stdout: string;
    stderr: string;
}>;
/** Runs the real bin in a child process (node + tsx loader, no shell). */
export declare function spawnCli(args: string[], cwd: string): Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
}>;
/** A fresh temporary folder, removed by the returned cleanup. */
export declare function tempDir(prefix?: string): {
    dir: string;
    cleanup: () => void;
    write: (name: string, content: string) => string;
};
