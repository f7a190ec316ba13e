-- 行政许可 × 法人库：one row per row of XZXK (same _BATCH, _ROW), for the cross-field and register rules.
-- Values are text; NULL means "not judged here" (another rule reports it, or the rule does not apply).
-- The record's key, decision date and upload time (XK_WSH, XK_JDRQ, SBSJ) and the department (XK_LYDWDM)
-- are passed through unchanged: the timeliness pass (toolkit/timeliness.py) groups the rules of this view
-- by them, as it groups those of the table.
-- Registers: FRK is the provincial register as the platform sees it (it lags: an entity registered in the
-- last days may be missing), FRK_BD the city's own, up to date. A register may list a code twice; one name
-- per code is taken.
WITH reg AS (
    SELECT _BATCH, TYSHXYDM AS code, min(JGMC) AS name FROM FRK WHERE TYSHXYDM IS NOT NULL GROUP BY ALL
), loc AS (
    SELECT _BATCH, TYSHXYDM AS code, min(JGMC) AS name FROM FRK_BD WHERE TYSHXYDM IS NOT NULL GROUP BY ALL
), base AS (
    SELECT x._BATCH, x._ROW, x.XK_LYDWDM, x.XK_LYDW, x.XK_WSH, x.XK_JDRQ, x.SBSJ,
           x.XK_XDR_LB, x.XK_XDR_MC, x.XK_XDR_SHXYM, x.XK_XDR_ZZJG, x.XK_FRDB,
           -- a register look-up applies to organisations and individual businesses with a real code
           (x.XK_XDR_LB IN ('法人及非法人组织', '个体工商户') AND x.XK_XDR_SHXYM IS NOT NULL
            AND x.XK_XDR_SHXYM <> '00000000000000000X') AS looked_up,
           r.code AS reg_code, r.name AS reg_name, l.code AS loc_code, a.AS_OF AS as_of
    FROM XZXK x
    LEFT JOIN reg r ON r._BATCH = x._BATCH AND r.code = x.XK_XDR_SHXYM
    LEFT JOIN loc l ON l._BATCH = x._BATCH AND l.code = x.XK_XDR_SHXYM
    LEFT JOIN dq_as_of a ON a._BATCH = x._BATCH
)
SELECT _BATCH, _ROW, XK_LYDWDM, XK_LYDW, XK_WSH, XK_JDRQ, SBSJ, XK_XDR_LB, XK_XDR_MC,
    XK_XDR_SHXYM, XK_XDR_ZZJG, XK_FRDB,
    -- the batch's as-of (its latest upload time), for "a decision is not dated after the batch"
    strftime(as_of, '%Y-%m-%d %H:%M:%S') AS AS_OF,
    -- characters 9-17 of an 18-character credit code (not the placeholder): the organisation code
    CASE WHEN length(XK_XDR_SHXYM) = 18 AND XK_XDR_SHXYM <> '00000000000000000X'
         THEN substr(XK_XDR_SHXYM, 9, 9) END AS USC_ORG,
    -- a natural person has no credit code and no legal representative
    CASE WHEN XK_XDR_LB = '自然人' THEN
        CASE WHEN XK_XDR_SHXYM IS NULL AND XK_FRDB IS NULL THEN '0' ELSE '1' END END AS NP_EXTRA,
    CASE WHEN looked_up THEN CASE WHEN reg_code IS NULL THEN '0' ELSE '1' END END AS REG_FOUND,
    CASE WHEN looked_up THEN reg_name END AS REG_NAME,
    -- in the city's register? (a code there but not in the province's: the provincial register lags)
    CASE WHEN looked_up THEN CASE WHEN loc_code IS NULL THEN '0' ELSE '1' END END AS LOCAL_FOUND
FROM base
