export declare const ROOT: string;
export declare const SOURCE_DIRS: string[];
export declare function listSources(): { files: string[]; newest: number };
export declare function isStale(): boolean;
export declare function buildDist(): Promise<number>;
export declare const SERVER_ENTRY: string;
export declare function serverBundleOptions(root?: string): {
  entryPoints: string[];
  bundle: true;
  format: 'esm';
  platform: 'node';
  target: string;
  external: string[];
};
export declare function bundleServer(outfile?: string): Promise<string>;
