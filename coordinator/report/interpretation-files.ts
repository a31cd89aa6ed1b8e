import type { Interpretation, MarkerGene } from '../../proto/gen/cellsweep/v1/run.js';

/**
 * The interpretability outputs of one run as files a researcher opens in a
 * spreadsheet or loads with pandas: per-cell predictions, marker genes, and
 * the transport plan (bulk samples x cells).
 */

/** One row per cell: id, score, predicted group, and the true label when known. */
export function cellsTsv(interp: Interpretation, labels?: ArrayLike<number>): string {
  const header = ['cell', 'score', 'predicted', ...(labels === undefined ? [] : ['label'])].join('\t');
  const rows = interp.cellIds.map((id, i) =>
    [id, num(interp.cellScores[i]), interp.cellSensitive[i] ? 'sensitive' : 'resistant', ...(labels === undefined ? [] : [String(labels[i])])].join('\t'),
  );
  return [header, ...rows].join('\n') + '\n';
}

/** Both groups' markers, best first; `effect` is a log2 fold change (counts) or a mean difference (normalised input). */
export function markersTsv(interp: Interpretation, effect: string): string {
  const rows = (group: string, markers: MarkerGene[]) =>
    markers.map((m, i) => [group, i + 1, m.gene, num(m.logFoldChange), num(m.statistic), num(m.pValue), num(m.pAdjusted)].join('\t'));
  const header = ['group', 'rank', 'gene', effect, 'z', 'p_value', 'p_adjusted'].join('\t');
  return [header, ...rows('sensitive', interp.sensitiveMarkers), ...rows('resistant', interp.resistantMarkers)].join('\n') + '\n';
}

/** The plan as a bulk x cells table (first row: cell ids; first column: bulk ids). */
export function planTsv(interp: Interpretation): string {
  const values = new Float32Array(interp.planF32.buffer.slice(interp.planF32.byteOffset, interp.planF32.byteOffset + interp.planF32.byteLength));
  const lines = [['', ...interp.cellIds].join('\t')];
  for (let r = 0; r < interp.planRows; r++) {
    const row = [interp.bulkIds[r] ?? String(r)];
    for (let c = 0; c < interp.planCols; c++) row.push(num(values[r * interp.planCols + c]));
    lines.push(row.join('\t'));
  }
  return lines.join('\n') + '\n';
}

function num(v: number | undefined): string {
  return v === undefined ? '' : String(Number(v.toPrecision(6)));
}
