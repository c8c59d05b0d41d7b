/**
 * `reprise ca`: the Reprise CA of this machine ($REPRISE_HOME/ca), created when missing, with the
 * Java truststore beside it: the files a cluster's `reprise-ca` Secret is made from.
 */
import { Command } from 'commander';
import { caDir, repriseHome } from '../../src/base/paths.js';
import { printJson, printLine } from '../output.js';

export function caCommand(): Command {
  return new Command('ca')
    .description(
      'create (once) and show the Reprise CA and its Java truststore, e.g. for the reprise-ca Secret',
    )
    .option('--json', 'print {"dir","cert","key","truststore"}')
    .action(async (opts: { json?: boolean }) => {
      // Loaded here: the CA code pulls in mockttp, which other commands do not need.
      const { ensureCa } = await import('../../src/tls/ca.js');
      const { ensureTruststore } = await import('../../src/jvm/truststore.js');
      const dir = caDir(repriseHome());
      const ca = await ensureCa(dir);
      const truststore = await ensureTruststore(dir);
      if (opts.json) return printJson({ dir, cert: ca.certPath, key: ca.keyPath, truststore });
      printLine(`CA          ${ca.certPath}`);
      printLine(`key         ${ca.keyPath}  (keep it private: it can sign for any host)`);
      printLine(`truststore  ${truststore}  (JKS, password changeit: the CA and the public roots, for JVMs)`);
      printLine(
        `Secret      kubectl create secret generic reprise-ca --from-file=${ca.certPath} ` +
          `--from-file=${ca.keyPath} --from-file=${truststore}`,
      );
    });
}
