// Manager proxies in the ported examples. The facade's `manager.dict()` gives a proxy whose
// methods return promises; passed to a process, it arrives there as the Effect-API proxy, which
// `promisify` wraps again. `Shared<P>` types a task parameter that receives either.
import type * as Manager from "@multiproc/primitives/Manager"
import { promisify } from "@multiproc/primitives/promise/Manager"
import type { Promisified } from "@multiproc/primitives/promise/Manager"

/** A manager proxy as a task receives it: the Effect-API proxy, or the facade's promisified one. */
export type Shared<P extends Manager.BaseProxy> = P | Promisified<P>

/** The promise-returning view of a proxy received by a task. */
export const proxy = <P extends Manager.BaseProxy>(p: Shared<P>): Promisified<P> => promisify(p as P)
