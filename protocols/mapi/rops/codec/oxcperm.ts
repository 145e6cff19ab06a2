/** MS-OXCPERM ROPs (MS-OXCROPS 2.2.10): folder permissions. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, arr, struct, taggedValues } from './fields.js';

const DOC = 'MS-OXCPERM';

/** PermissionData: DataFlags, PropertyValueCount, PropertyValues. */
const permissionData = struct({ dataFlags: u8, propertyValues: taggedValues });

export const GetPermissionsTable = defineRop({ id: RopId.GetPermissionsTable, doc: DOC, handles: 'io', req: { tableFlags: u8 } });

export const ModifyPermissions = defineRop({ id: RopId.ModifyPermissions, doc: DOC, handles: 'in', req: { modifyFlags: u8, permissionsData: arr(2, permissionData, 3) } });

export const ROPS = [GetPermissionsTable, ModifyPermissions] as const;
