-- 行政处罚 × 法人库：one row per row of XZCF (same _BATCH, _ROW), for the cross-field and register rules.
-- Values are text; NULL means "not judged here" (another rule reports it, or the rule does not apply).
-- The record's key, decision date and upload time (CF_WSH, CF_JDRQ, SBSJ) and the department (CF_SJLYDM)
-- are passed through unchanged: the timeliness pass (toolkit/timeliness.py) groups the rules of this view
-- by them, as it groups those of the table. CF_SJLY is passed on as XK_LYDW, the column the pack reads
-- department names from (domain.yaml unit.names), so that a department uploading only penalties is named.
-- Registers: FRK is the provincial register as the platform sees it (it lags: an entity registered in the
-- last days may be missing), FRK_BD the city's own, up to date. A register may list a code twice; one name
-- per code is taken.
WITH reg AS (
    SELECT _BATCH, TYSHXYDM AS code, min(JGMC) AS name FROM FRK WHERE TYSHXYDM IS NOT NULL GROUP BY ALL
), loc AS (
    SELECT _BATCH, TYSHXYDM AS code, min(JGMC) AS name FROM FRK_BD WHERE TYSHXYDM IS NOT NULL GROUP BY ALL
), base AS (
    SELECT x._BATCH, x._ROW, x.CF_SJLYDM, x.CF_SJLY, x.CF_WSH, x.CF_JDRQ, x.SBSJ,
           x.CF_XDR_LB, x.CF_XDR_MC, x.CF_XDR_SHXYM, x.CF_XDR_ZZJG, x.CF_FRDB,
           x.CF_CFLB, x.CF_NR_FK, x.CF_NR_WFFF, x.CF_NR_ZKDX,
           -- the penalty categories, one code per element (separated by ; or ；)
           string_split_regex(x.CF_CFLB, '[;；]') AS kinds,
           (x.CF_XDR_LB IN ('法人及非法人组织', '个体工商户') AND x.CF_XDR_SHXYM IS NOT NULL
            AND x.CF_XDR_SHXYM <> '00000000000000000X') AS looked_up,
           r.code AS reg_code, r.name AS reg_name, l.code AS loc_code, a.AS_OF AS as_of
    FROM XZCF x
    LEFT JOIN reg r ON r._BATCH = x._BATCH AND r.code = x.CF_XDR_SHXYM
    LEFT JOIN loc l ON l._BATCH = x._BATCH AND l.code = x.CF_XDR_SHXYM
    LEFT JOIN dq_as_of a ON a._BATCH = x._BATCH
)
SELECT _BATCH, _ROW, CF_SJLYDM, CF_SJLY AS XK_LYDW, CF_WSH, CF_JDRQ, SBSJ, CF_XDR_LB, CF_XDR_MC,
    CF_XDR_SHXYM, CF_XDR_ZZJG, CF_FRDB, CF_CFLB, CF_NR_FK, CF_NR_WFFF, CF_NR_ZKDX,
    strftime(as_of, '%Y-%m-%d %H:%M:%S') AS AS_OF,
    CASE WHEN length(CF_XDR_SHXYM) = 18 AND CF_XDR_SHXYM <> '00000000000000000X'
         THEN substr(CF_XDR_SHXYM, 9, 9) END AS USC_ORG,
    CASE WHEN CF_XDR_LB = '自然人' THEN
        CASE WHEN CF_XDR_SHXYM IS NULL AND CF_FRDB IS NULL THEN '0' ELSE '1' END END AS NP_EXTRA,
    CASE WHEN looked_up THEN CASE WHEN reg_code IS NULL THEN '0' ELSE '1' END END AS REG_FOUND,
    CASE WHEN looked_up THEN reg_name END AS REG_NAME,
    -- in the city's register? (a code there but not in the province's: the provincial register lags)
    CASE WHEN looked_up THEN CASE WHEN loc_code IS NULL THEN '0' ELSE '1' END END AS LOCAL_FOUND,
    -- what the categories ask for (NULL when 处罚类别 is empty: the required rule reports it)
    CASE WHEN CF_CFLB IS NOT NULL THEN
        CASE WHEN list_contains(kinds, '罚款') THEN '1' ELSE '0' END END AS HAS_FINE,
    CASE WHEN CF_CFLB IS NOT NULL THEN
        CASE WHEN list_has_any(kinds, ['没收违法所得', '没收非法财物']) THEN '1' ELSE '0' END END AS HAS_CONFISCATION,
    CASE WHEN CF_CFLB IS NOT NULL THEN
        CASE WHEN list_has_any(kinds, ['暂扣许可证件', '吊销许可证件']) THEN '1' ELSE '0' END END AS HAS_LICENCE_ACTION,
    -- a fine above zero (plain decimal text; anything else is the format rule's business)
    CASE WHEN regexp_full_match(CF_NR_FK, '[0-9]{1,12}(\.[0-9]{1,6})?')
         THEN CASE WHEN CAST(CF_NR_FK AS DECIMAL(18,6)) > 0 THEN '1' ELSE '0' END END AS FK_POSITIVE,
    CASE WHEN regexp_full_match(CF_NR_WFFF, '[0-9]{1,12}(\.[0-9]{1,6})?')
         THEN CASE WHEN CAST(CF_NR_WFFF AS DECIMAL(18,6)) > 0 THEN '1' ELSE '0' END END AS WFFF_POSITIVE
FROM base
