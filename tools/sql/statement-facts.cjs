// Turns SQL statements into the facts their data checks are derived from, with PostgreSQL's own parser (libpg-query)
// and pgsql-deparser for the expressions. Reads [{ "id": ..., "sql": ... }] on stdin, one statement each, and writes
// [{ "id": ..., "facts": {...} | null, "error": "..." | null }] on stdout. It knows SQL, not databases: which table
// exists and what the rows hold is the deployment's business.
'use strict';
const { loadModule, parseSync } = require('libpg-query');
const { deparseSync } = require('pgsql-deparser');

const names = list => (list || []).map(item => item.String.sval);
const relation = range => range && { schema: range.schemaname || null, name: range.relname };
const sql = node => node ? deparseSync(node).trim() : null;
const qualified = list => { const parts = names(list); return { schema: parts.length > 1 ? parts[parts.length - 2] : null, name: parts[parts.length - 1] }; };

/// Every function an expression calls: a column default that calls a volatile one rewrites the table.
function functionsIn(node, found = []) {
  if (Array.isArray(node)) node.forEach(item => functionsIn(item, found));
  else if (node && typeof node === 'object')
    for (const [key, value] of Object.entries(node)) {
      if (key === 'FuncCall') found.push(names(value.funcname).join('.'));
      functionsIn(value, found);
    }
  return found;
}

/// Every table a query reads, as written (a CTE's name too, which then matches no table).
function tablesIn(node, found = []) {
  if (Array.isArray(node)) node.forEach(item => tablesIn(item, found));
  else if (node && typeof node === 'object')
    for (const [key, value] of Object.entries(node)) {
      if (key === 'RangeVar') found.push(relation(value));
      else tablesIn(value, found);
    }
  return found;
}

const serialTypes = ['serial', 'bigserial', 'smallserial', 'serial2', 'serial4', 'serial8'];

/// What adding a constraint needs from the rows already there; null when it needs nothing (NOT VALID, USING INDEX).
function constraintNeed(constraint, columns) {
  const name = constraint.conname || null;
  switch (constraint.contype) {
    case 'CONSTR_UNIQUE':
    case 'CONSTR_PRIMARY':
      if (constraint.indexname) return null;
      return { check: 'unique', constraint: name, expressions: columns || names(constraint.keys), where: null,
               primaryKey: constraint.contype === 'CONSTR_PRIMARY', nullsNotDistinct: !!constraint.nulls_not_distinct };
    case 'CONSTR_FOREIGN':
      if (constraint.skip_validation) return null;
      return { check: 'foreignKey', constraint: name, columns: columns || names(constraint.fk_attrs),
               references: relation(constraint.pktable), referencedColumns: names(constraint.pk_attrs) };
    case 'CONSTR_CHECK':
      if (constraint.skip_validation) return null;
      return { check: 'check', constraint: name, expression: sql(constraint.raw_expr) };
    case 'CONSTR_NOTNULL':
      return columns ? { check: 'notNull', column: columns[0] } : null;
    default:
      return null;
  }
}

function alterTable(stmt, facts) {
  // ALTER INDEX, ALTER SEQUENCE, ALTER VIEW share the node: only tables are followed.
  if (stmt.objtype !== 'OBJECT_TABLE') return;
  facts.relation = relation(stmt.relation);
  facts.missingOk = !!stmt.missing_ok;
  facts.lock = 'ACCESS EXCLUSIVE';
  for (const { AlterTableCmd: cmd } of stmt.cmds) {
    const column = cmd.name || null;
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const def = cmd.def.ColumnDef;
        const constraints = (def.constraints || []).map(item => item.Constraint);
        const hasDefault = constraints.some(c => c.contype === 'CONSTR_DEFAULT' || c.contype === 'CONSTR_IDENTITY' || c.contype === 'CONSTR_GENERATED');
        facts.addsColumns.push(def.colname);
        facts.writes = true;
        if (serialTypes.includes(names(def.typeName.names).join('.')) || constraints.some(c => c.contype === 'CONSTR_IDENTITY' || c.contype === 'CONSTR_GENERATED'))
          facts.work.push('rewrite');
        else if (constraints.some(c => c.contype === 'CONSTR_DEFAULT'))
          facts.defaultFunctions.push(...functionsIn(constraints.filter(c => c.contype === 'CONSTR_DEFAULT')));
        if (!hasDefault && constraints.some(c => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY'))
          facts.needs.push({ check: 'empty', column: def.colname });
        for (const constraint of constraints.filter(c => c.contype === 'CONSTR_FOREIGN' || c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_UNIQUE'))
          facts.notes.push(`a ${constraint.contype.slice(7).toLowerCase()} constraint on the new column ${def.colname} is checked against its default, not derived`);
        break;
      }
      case 'AT_DropColumn':
        if (!cmd.missing_ok) facts.columns.push(column);
        facts.dropsColumns.push(column);
        break;
      case 'AT_SetNotNull':
        facts.columns.push(column);
        facts.work.push('scan');
        facts.needs.push({ check: 'notNull', column });
        break;
      case 'AT_AlterColumnType': {
        const def = cmd.def.ColumnDef;
        facts.columns.push(column);
        facts.writes = true;
        facts.needs.push({ check: 'cast', column, type: sql({ TypeName: def.typeName }), using: sql(def.raw_default) });
        facts.work.push('rewrite');
        break;
      }
      case 'AT_AddConstraint': {
        const constraint = cmd.def.Constraint;
        const need = constraintNeed(constraint, null);
        facts.columns.push(...names(constraint.keys), ...names(constraint.fk_attrs));
        if (need) facts.needs.push(need);
        if (need) facts.work.push(need.check === 'unique' ? 'index' : 'scan');
        if (constraint.contype === 'CONSTR_FOREIGN') facts.lock = 'SHARE ROW EXCLUSIVE';
        if (constraint.contype === 'CONSTR_FOREIGN' || constraint.contype === 'CONSTR_CHECK')
          facts.addsConstraints.push({ name: constraint.conname || null, need: constraintNeed({ ...constraint, skip_validation: false }, null) });
        break;
      }
      case 'AT_ValidateConstraint':
        facts.needs.push({ check: 'validate', constraint: column });
        facts.work.push('scan');
        facts.lock = 'SHARE UPDATE EXCLUSIVE';
        break;
      case 'AT_DropNotNull':
      case 'AT_ColumnDefault':
      case 'AT_SetStatistics':
      case 'AT_SetStorage':
        facts.columns.push(column);
        break;
      default:
        break;
    }
  }
}

function facts(stmt) {
  const [kind] = Object.keys(stmt);
  const node = stmt[kind];
  const result = { kind, relation: null, missingOk: false, columns: [], needs: [], notes: [], writes: false,
                   unknownEffects: false, creates: null, createdColumns: null, drops: [], addsColumns: [], dropsColumns: [],
                   renames: null, addsConstraints: [], lock: null, work: [], defaultFunctions: [], reads: [] };
  switch (kind) {
    case 'AlterTableStmt':
      alterTable(node, result);
      break;
    case 'IndexStmt':
      result.relation = relation(node.relation);
      result.columns = node.indexParams.map(param => param.IndexElem.name).filter(Boolean);
      result.work.push('index');
      result.lock = node.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE';
      if (node.unique)
        result.needs.push({ check: 'unique', constraint: node.idxname || null,
                            expressions: node.indexParams.map(param => param.IndexElem.name || `(${sql(param.IndexElem.expr)})`),
                            where: sql(node.whereClause), primaryKey: !!node.primary, nullsNotDistinct: !!node.nulls_not_distinct });
      break;
    case 'CreateStmt':
      result.creates = relation(node.relation);
      result.missingOk = !!node.if_not_exists;
      result.createdColumns = (node.tableElts || []).filter(element => element.ColumnDef).map(element => element.ColumnDef.colname);
      if (node.inhRelations || node.partbound) result.createdColumns = null;
      break;
    case 'CreateTableAsStmt':
      result.creates = relation(node.into.rel);
      result.createdColumns = null;
      result.reads = tablesIn(node.query);
      if (result.reads.length > 0) result.work.push('fill');
      break;
    case 'ViewStmt':
      result.creates = relation(node.view);
      result.createdColumns = null;
      break;
    case 'DropStmt':
      if (node.removeType === 'OBJECT_TABLE' || node.removeType === 'OBJECT_VIEW' || node.removeType === 'OBJECT_MATVIEW')
        result.drops = node.objects.map(object => qualified(object.List.items));
      result.missingOk = !!node.missing_ok;
      break;
    case 'RenameStmt':
      if (node.renameType === 'OBJECT_TABLE')
        result.renames = { relation: relation(node.relation), to: node.newname };
      else if (node.renameType === 'OBJECT_COLUMN' && node.relationType === 'OBJECT_TABLE')
        result.renames = { relation: relation(node.relation), column: node.subname, to: node.newname };
      else
        break;
      result.relation = relation(node.relation);
      result.missingOk = !!node.missing_ok;
      if (node.subname) result.columns.push(node.subname);
      break;
    case 'InsertStmt':
      result.relation = relation(node.relation);
      result.columns = (node.cols || []).map(target => target.ResTarget.name);
      result.writes = true;
      result.lock = 'ROW EXCLUSIVE';
      result.reads = tablesIn(node.selectStmt);
      if (result.reads.length > 0) result.work.push('fill');
      break;
    case 'UpdateStmt':
      result.relation = relation(node.relation);
      result.columns = (node.targetList || []).map(target => target.ResTarget.name);
      result.writes = true;
      result.work.push('write');
      result.lock = 'ROW EXCLUSIVE';
      break;
    case 'DeleteStmt':
    case 'MergeStmt':
      result.relation = relation(node.relation);
      result.writes = true;
      result.work.push('write');
      result.lock = 'ROW EXCLUSIVE';
      break;
    case 'TruncateStmt':
      result.writesAll = node.relations.map(range => relation(range.RangeVar));
      result.lock = 'ACCESS EXCLUSIVE';
      break;
    case 'CopyStmt':
      result.relation = relation(node.relation);
      result.writes = !!node.is_from;
      break;
    case 'DoStmt':
    case 'CallStmt':
      result.unknownEffects = true;
      break;
    default:
      break;
  }
  return result;
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  await loadModule();
  const output = JSON.parse(input).map(({ id, sql: text }) => {
    try {
      const parsed = parseSync(text);
      const statements = parsed.stmts || [];
      return { id, facts: statements.length === 1 ? facts(statements[0].stmt) : null, error: null };
    } catch (error) {
      return { id, facts: null, error: error.message };
    }
  });
  process.stdout.write(JSON.stringify(output));
}

main().catch(error => { process.stderr.write(`statement-facts: ${error.stack || error}\n`); process.exit(1); });
