import { InvalidInputError } from '../errors';

/** A rebuild makes one region a replica of another: never of itself. */
export function distinctRegions(primaryRegion: string, replicaRegion: string): void {
  if (primaryRegion === replicaRegion)
    throw new InvalidInputError(`cannot rebuild region ${replicaRegion} as a replica of itself`);
}
