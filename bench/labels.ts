/** How subjects are named for people: library and installed version. */
import type { SubjectId } from './jobs.js';
import { type SubjectInfo, subjectInfo } from './subjects/catalog.js';

export function subjectLabel(id: SubjectId, versions: Readonly<Record<string, string>>): string {
  const info: SubjectInfo = subjectInfo(id);
  const clientPackage = info.client === 'ioredis' ? 'ioredis' : 'redis';
  const clientVersion = versions[clientPackage] ?? '?';
  const clientName = `${info.client} ${clientVersion}`;
  switch (info.role) {
    case 'lock':
      return `${info.label.replace(/ \+ .*$/, '')} + ${clientName}`;
    case 'floor':
      return `raw floor (${clientName})`;
    case 'peer':
      return `${info.label} ${versions[info.packageName] ?? '?'}`;
  }
}

/** `subjectLabel` with the versions bound. */
export function labelFor(versions: Readonly<Record<string, string>>): (id: SubjectId) => string {
  return (id) => subjectLabel(id, versions);
}
